"""Real faces and synthetic occluders: loading and alignment, occluder templates and placement, FROM patterns,
occluded / clean training pairs."""
