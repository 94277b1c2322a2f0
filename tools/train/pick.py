#!/usr/bin/env python3
"""Print the candidate model folder with the lowest validation loss (metrics.json
"shipped_validation_loss"; validation = held-out documents outside the quality slice)."""
import json
import os
import sys

best = None
for d in sys.argv[1:]:
    p = os.path.join(d, "metrics.json")
    if not os.path.exists(p) or not os.path.exists(os.path.join(d, "model.safetensors.index.json")):
        print(f"{d}: no finished model", file=sys.stderr)
        continue
    v = json.load(open(p)).get("shipped_validation_loss")
    print(f"{d}: validation loss {v}", file=sys.stderr)
    if v is not None and (best is None or v < best[0]):
        best = (v, d)
if best is None:
    sys.exit("no candidate finished")
print(best[1])
