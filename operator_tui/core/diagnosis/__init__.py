"""Diagnosis: the result schema, the context builder, the prompt, and the Claude and offline backends."""
