/**
 * Files a run writes (shipped models, checkpoints with their manifest, atomic writes); nothing here
 * is read back as a finished artefact unless it was completely written.
 */
package dev.distill.core.io;
