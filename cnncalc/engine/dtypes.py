"""Bytes per value of every dtype the memory figures know: `table --dtype` offers exactly these."""

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
