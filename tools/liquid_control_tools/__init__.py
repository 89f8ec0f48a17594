"""Development tools of liquid_control (not installed on robots): `bench` (benchmarks and the
liquid-vs-GRU study, writing docs/benchmarks.md and docs/study.md) and `reliability`
(fuzzing, fault scenarios, model integrity and long runs, writing docs/reliability.md)."""
