/**
 * Files a run writes (shipped models, atomic writes); nothing here is read back as a finished
 * artefact unless it was completely written.
 */
package dev.distill.core.io;
