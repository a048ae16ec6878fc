"""Small helpers shared by every stage: device selection and logging."""
