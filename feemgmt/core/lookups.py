"""``field__any=[…]``: membership in a long list, sent as one array parameter.

``pk__in`` with ten thousand ids makes Django prepare, and PostgreSQL parse, ten
thousand parameters; the set-based paths (a statement's lines, a billing chunk's
charges) look rows up by such lists all the time. On PostgreSQL ``any`` sends
``col = ANY(%s)`` with the list as one array, adapted by the driver in C; other
backends get the ordinary ``IN (…)``. The values must already be what the column
holds (ids, codes): they are not passed through the field's preparation.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


@ForeignObject.register_lookup  # foreign keys keep their own registry
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self.rhs
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
