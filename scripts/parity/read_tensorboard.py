#!/usr/bin/env python3
"""Reads a folder of TensorBoard event files with TensorBoard's own loader and prints every
scalar series as JSON: {"tag": [[step, value], ...], ...}. Used by Stratum's tests."""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

accumulator = EventAccumulator(sys.argv[1])
accumulator.Reload()
print(json.dumps({tag: [[e.step, e.value] for e in accumulator.Scalars(tag)]
                  for tag in accumulator.Tags()["scalars"]}))
