/**
 * Training a byte-level MoE transformer on the library's gate and balancers: the model with its
 * forward and backward ({@link dev.moe.train.MoeTransformer}), AdamW, the data split and the training
 * loop ({@link dev.moe.train.Trainer}) with the loss-free bias, auxiliary losses or no balancing, and
 * checkpoints that resume a run exactly.
 */
package dev.moe.train;
