"""``Dependency[T]``: a nameko ``DependencyProvider`` whose worker attribute has a type.

Nameko puts what ``get_dependency`` returns on each worker instance under the provider's
attribute name, so on a service class ``store = NotifyStore()`` the worker's ``self.store``
is a ``Store``, not the provider. For the type checker the provider says so itself: it is a
descriptor that gives the provider on the class and ``T`` on an instance. At run time the
descriptor does not exist (the ``__get__`` is declared only while type checking), so nameko
sees a plain ``DependencyProvider``::

    class NotifyStore(Dependency[Store]):
        def get_dependency(self, worker_ctx: Any) -> Store: ...

    class NotifyService(BaseService):
        store = NotifyStore()          # self.store: Store in every method
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from nameko.extensions import DependencyProvider

T = TypeVar("T")


class Dependency(DependencyProvider, Generic[T]):
    def get_dependency(self, worker_ctx: Any) -> T:
        raise NotImplementedError

    if TYPE_CHECKING:
        @overload
        def __get__(self, obj: None, owner: type[Any]) -> Dependency[T]: ...
        @overload
        def __get__(self, obj: object, owner: type[Any]) -> T: ...
        def __get__(self, obj: object, owner: type[Any]) -> Dependency[T] | T: ...
