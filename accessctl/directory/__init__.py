"""The organisation tree, the service catalogue, users and their employments."""
