/**
 * distill-runtime: runs a distilled, compressed student with nothing but the JDK (Java 11 or later).
 * {@link dev.distill.runtime.Model} loads a packed file ({@link dev.distill.runtime.PackedFormat}, which
 * this module reads and writes) and predicts from raw input values; distill-core converts DL4J networks
 * into the format ({@code Dl4jToRuntime}) and never the other way: this module depends on nothing.
 */
package dev.distill.runtime;
