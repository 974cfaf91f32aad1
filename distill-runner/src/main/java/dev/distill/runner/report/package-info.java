/**
 * What a run reports: summary.json's records and the comparison table printed on the console and
 * written into report.md.
 */
package dev.distill.runner.report;
