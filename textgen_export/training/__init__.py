"""Training: text files → int token corpus → tf.data windows → Keras fit → model directory.

`trainer.train` is the one implementation; the CLI `train` command (through `run.TrainingRun`) and the
textgenrnn compat API both call it.
"""
