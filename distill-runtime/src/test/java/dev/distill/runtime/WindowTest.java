package dev.distill.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The padding a window adds per side, as the float path applies it (what an ONNX export writes out). */
class WindowTest {

    @Test
    void sameModePutsTheOddRowAndColumnAtTheBottomAndRight() {
        // 7 wide, kernel 3, stride 2: output 4, taps span 3 + 3 * 2 = 9, so 2 padding: 1 before, 1 after
        Window w = new Window(3, 3, 2, 2, 0, 0, 1, 1, true);
        assertEquals(4, w.outputHeight(7));
        assertArrayEquals(new int[] {1, 1, 1, 1}, w.padding(7, 7));
        // 8 wide: output 4, taps span 9, 1 padding, all of it after
        assertArrayEquals(new int[] {0, 0, 1, 1}, w.padding(8, 8));
        // kernel 2, stride 1 on 5: 1 padding, after
        assertArrayEquals(new int[] {0, 0, 1, 1}, new Window(2, 2, 1, 1, 0, 0, 1, 1, true).padding(5, 5));
    }

    @Test
    void explicitPaddingIsTheSameOnEverySideAndTheOutputIsFloored() {
        Window w = new Window(3, 2, 2, 2, 1, 0, 1, 1, false);
        assertArrayEquals(new int[] {1, 0, 1, 0}, w.padding(6, 5));
        assertEquals(3, w.outputHeight(6));
        assertEquals(2, w.outputWidth(5));
    }

    @Test
    void dilationWidensTheSpanSamePaddingCovers() {
        // kernel 3 dilation 2 spans 5: on 6 at stride 1, 4 padding, 2 before and 2 after
        assertArrayEquals(new int[] {2, 2, 2, 2}, new Window(3, 3, 1, 1, 0, 0, 2, 2, true).padding(6, 6));
    }
}
