"""Base classes and field types shared by every service's models.

- :class:`Body`: a JSON request body. Unknown fields are refused, JSON types are strict
  (``"5"`` is not a number), no NaN/Infinity. ``error_code`` (class attribute) replaces the
  generic ``validation.*`` code when the service already has one for the same checks.
- :class:`Query`: a query string; values arrive as text and are checked in lax mode (``"5"``
  is 5); unknown parameters are ignored, as before.
- :class:`Answer`: what a service answers. Known fields are typed; services may add fields
  (``additionalProperties`` stays open), which the schema says rather than hides.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, StringConstraints

INT32 = 2**31 - 1

_T = TypeVar("_T")

if TYPE_CHECKING:
    #: A field the caller may leave out (then the model holds None) but may not send as
    #: ``null``: ``name: Omittable[str] = Field(None, max_length=100)``. The type checker
    #: sees ``str | None`` (what the code reads); validation and the schema see ``str``.
    Omittable = Annotated[_T | None, "omittable"]
else:
    class Omittable:
        def __class_getitem__(cls, item: Any) -> Any:
            return item

#: years the API accepts in the dates and months of visits, pools and reports (2000–2099, as
#: the services check them); a customer's contract and project dates take 1900–2099
_YEAR = r"(20\d\d)"
_RECORD_YEAR = r"(19\d\d|20\d\d)"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)
    error_code: ClassVar[str | None] = None


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, populate_by_name=True)


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Open(RootModel[dict[str, Any]]):
    """An object whose keys the service decides (said so in the document)."""


def _real_date(value: str) -> str:
    date.fromisoformat(value)
    return value


def _real_datetime(value: str) -> str:
    datetime.fromisoformat(value)
    return value


def _real_month(value: str) -> str:
    date.fromisoformat(value + "-01")
    return value


Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
IdList = Annotated[list[Id], Field(max_length=500)]
Day = Annotated[str, StringConstraints(pattern=rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
                AfterValidator(_real_date), Field(json_schema_extra={"format": "date"})]
RecordDay = Annotated[str, StringConstraints(pattern=rf"^{_RECORD_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"),
                      AfterValidator(_real_date), Field(json_schema_extra={"format": "date"})]
Month = Annotated[str, StringConstraints(pattern=rf"^{_YEAR}-(0[1-9]|1[0-2])$"), AfterValidator(_real_month),
                  Field(examples=["2026-03"])]
DateTime = Annotated[str, StringConstraints(
    pattern=rf"^{_YEAR}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{{1,6}})?)?(Z|[+-]\d\d:\d\d)?$"),
    AfterValidator(_real_datetime), Field(json_schema_extra={"format": "date-time"})]
Count = Annotated[int, Field(ge=0, le=INT32)]
Int = Annotated[int, Field(ge=-INT32, le=INT32)]
Page = Annotated[int, Field(ge=1, le=1_000_000)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=1_000_000)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lng = Annotated[float, Field(ge=-180, le=180)]


def text(max_length: int = 200, min_length: int = 0) -> Any:
    """A string of at most ``max_length`` characters."""
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length)]


Name = text(200)
Note = text(2000)
Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Deleted(Answer):
    deleted: bool | None = None


class Record(Answer):
    """A record the service describes (its id and more fields)."""

    id: str


class Records(RootModel[list[Record]]):
    """A list of records."""


class RecordPage(Answer):
    items: list[Record]
    total: int
    page: int | None = None
    page_size: int | None = None


class Result(Answer):
    """The service's answer: an object with fields of its own."""


class Results(RootModel[list[dict[str, Any]]]):
    """A list of objects with fields of the service's own."""


class UploadForm(Body):
    file: bytes = Field(json_schema_extra={"format": "binary"}, description="the xlsx workbook (≤ 10 MB)")
