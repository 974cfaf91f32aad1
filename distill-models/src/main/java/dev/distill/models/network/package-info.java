/**
 * Turns model specs into DL4J networks; the only place that knows DL4J's layer builders, so that
 * specs and costs stay independent of them.
 */
package dev.distill.models.network;
