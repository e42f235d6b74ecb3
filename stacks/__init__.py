"""The reference app: thin stacks that compose the sagemaker_lifecycle constructs."""
