"""Developer tools: synthetic data, feeds and the local stack for Shaobing."""
