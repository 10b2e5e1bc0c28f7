"""Runtime adapters: each turns int32 windows [B, max_length] into float32 probabilities [B, num_classes]."""
