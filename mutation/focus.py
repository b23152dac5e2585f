"""Skip the mutants of a cosmic-ray session outside the given line ranges, and keep one
arithmetic replacement per site (`Add_Sub`, `Mul_Add`, `BitOr_BitAnd`, `Div_Mul`: the other ten
of each site fail or survive together). Run after `cosmic-ray init`, before `exec`:

    /work/crvenv/bin/python mutation/focus.py SESSION.sqlite 47-98 142-173
    /work/crvenv/bin/python mutation/focus.py SESSION.sqlite 1-400 only=AddNot,ReplaceComparisonOperator_

`only=` keeps the operators whose names start with one of the given prefixes (a sample).
"""

import sys

from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

KEPT_BINARY = {"Add_Sub", "Mul_Add", "BitOr_BitAnd", "Div_Mul", "Pow_Mul"}


def main(session: str, ranges: list[str]) -> None:
    only = tuple(p for r in ranges if r.startswith("only=") for p in r.removeprefix("only=").split(","))
    spans = [tuple(int(n) for n in r.split("-")) for r in ranges if not r.startswith("only=")]
    kept = skipped = 0
    with use_db(session) as db:
        for item in db.pending_work_items:
            for mutation in item.mutations:
                row = mutation.start_pos[0]
                operator = mutation.operator_name.rsplit("/", 1)[-1]
                binary = operator.startswith("ReplaceBinaryOperator_")
                inside = any(start <= row <= end for start, end in spans)
                sampled_out = bool(only) and not operator.startswith(only)
                if (
                    not inside
                    or sampled_out
                    or (binary and operator.removeprefix("ReplaceBinaryOperator_") not in KEPT_BINARY)
                ):
                    db.set_result(item.job_id, WorkResult(output="focus.py", worker_outcome=WorkerOutcome.SKIPPED))
                    skipped += 1
                else:
                    kept += 1
    print(f"kept {kept}, skipped {skipped}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
