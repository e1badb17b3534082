//! Benchmarks of KinLink against plain peers measured in the same run:
//! chat fan-out against a bare actix-ws broadcast server, transcoding,
//! and the SFU's forwarding against a plain UDP forwarder.
