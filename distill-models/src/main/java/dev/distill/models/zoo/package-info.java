/**
 * Named student architectures (MLP, CNN, MobileNet-, ShuffleNet- and ResNet-style) with width and
 * depth multipliers, as specs a config can ask for by name.
 */
package dev.distill.models.zoo;
