"""Scheduler weighers of this package.

``[filter_scheduler] weight_classes`` may name
``nova_wrs_lm.scheduler.weights.failover_segment.FailoverSegmentWeigher``.
"""
