# Type stubs for the parts of nameko 2.x the project uses (nameko ships no types).
# Decorators keep the decorated function's type; classes tolerate the attributes not
# listed here (``__getattr__``) so a stub gap never hides a real error as an Any subclass.
from typing import Any

def __getattr__(name: str) -> Any: ...
