"""The TensorFlow-free contract shared with web_demo/src/: config, tokens, vocabulary, bundle format."""
