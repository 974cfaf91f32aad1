/**
 * YAML config → typed, immutable experiment records, checked once with file, line and key in every
 * error; the only place that knows the YAML's shape.
 */
package dev.distill.runner.config;
