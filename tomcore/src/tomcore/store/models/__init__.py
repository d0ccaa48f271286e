"""The SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from tomcore.store.base import Base
from tomcore.store.models.alerts import AlertQueryRow, AlertQueryRunRow, AlertQueryRunTargetRow
from tomcore.store.models.data import DataProductRow, PhotometryRow, ReducedValueRow, SpectrumRow
from tomcore.store.models.observations import (
    CadenceEpochRow,
    CadenceRow,
    NotificationLogRow,
    ObservationGroupRow,
    ObservationRecordRow,
    ObservationStatusRow,
    ObservationTemplateRow,
    RunnerStepRow,
)
from tomcore.store.models.targets import (
    TargetExtraRow,
    TargetListMemberRow,
    TargetListRow,
    TargetNameRow,
    TargetRow,
)

__all__ = [
    "AlertQueryRow",
    "AlertQueryRunRow",
    "AlertQueryRunTargetRow",
    "Base",
    "CadenceEpochRow",
    "CadenceRow",
    "DataProductRow",
    "NotificationLogRow",
    "ObservationGroupRow",
    "ObservationRecordRow",
    "ObservationStatusRow",
    "ObservationTemplateRow",
    "PhotometryRow",
    "ReducedValueRow",
    "RunnerStepRow",
    "SpectrumRow",
    "TargetExtraRow",
    "TargetListMemberRow",
    "TargetListRow",
    "TargetNameRow",
    "TargetRow",
]
