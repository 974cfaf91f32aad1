/**
 * Loading labelled examples from files: IDX (MNIST-style, raw or gzipped) and CSV (through DataVec), and
 * the named data sets (the embedded digits, Fashion-MNIST from Debian's package), with errors that name the file.
 */
package dev.distill.runner.data;
