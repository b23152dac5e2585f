"""Database expressions shared by the apps."""

from django.db.models import BigIntegerField, Func
from django.utils.functional import cached_property


class EpochSeconds(Func):
    """POSIX seconds (rounded down) of a datetime column, computed by the database: reading
    tens of thousands of integers costs far less than parsing as many timestamps into datetime
    objects (exports, slot loading)."""

    output_field = BigIntegerField()
    arity = 1

    @cached_property
    def convert_value(self):
        return self._convert_value_noop  # both databases already return integers (or None)

    def as_sql(self, compiler, connection, **extra_context):
        # '%%%%s': the template's formatting leaves '%%s', which the driver's wrapper turns into '%s'.
        return super().as_sql(compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)")

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s))::bigint")
