//! Benchmarks of KinLink's chat fan-out against a bare actix-ws broadcast
//! server, driven by the same open-loop load generator.
