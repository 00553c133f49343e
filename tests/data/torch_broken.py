"""A model file that fails while importing (tests: `import --torch` names the module and the error)."""

raise ImportError("torch_broken cannot be imported")
