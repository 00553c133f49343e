"""For TAs: generated problem sets (quiz variants, their sheets and keys)."""
