"""Kentucky Department of Insurance: the producer (agent) licence roster."""
