/**
 * The command line (picocli): the only place with main() and exit codes; commands parse arguments
 * and hand over to the config loader and the pipeline.
 */
package dev.distill.runner.cli;
