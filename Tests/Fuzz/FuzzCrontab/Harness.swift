import Cron
import FuzzSupport

/// The crontab parser, and next() for every job it accepts: no crash, no hang (the search is
/// bounded), and every planned time is after the time asked about.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let zones = [Zone.utc] + ["America/New_York", "Australia/Lord_Howe"].compactMap { try? Zone.named($0).get() }
    if case .success(let tab) = Crontab.parse(text, defaultZone: zones[size % zones.count]) {
        for job in tab.jobs.prefix(4) {
            let from: Int64 = 1_800_000_000
            if let next = job.schedule.next(after: from, zone: job.zone, anchor: from) {
                precondition(next > from, "next() went backwards")
            }
        }
    }
    _ = ScheduleParser.parse(text)
    _ = Argv.split(text)
    return 0
}

/// The entry point SwiftPM links the executable to.
@_cdecl("FuzzCrontab_main")
public func entry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 { runFuzzer(argc, argv, fuzz) }
