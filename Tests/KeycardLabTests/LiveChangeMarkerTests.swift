import Foundation
import KeycardLab
import Testing

/// The change-in-progress marker as readers see it: a change still being made by a live writer is
/// waited for, one its live writer (the lab process) failed is interrupted at once, and one whose
/// writer is gone is interrupted.
@Suite struct LiveChangeMarkerTests {
    @Test func aFailedChangeOfALiveWriterIsInterrupted() throws {
        let lab = uniqueLabName("mk")
        let directory = LabPaths.directory(lab)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        try LiveChangeMarker.begin(lab: lab)
        // This process writes it and runs on: its change is under way, not interrupted.
        #expect(LiveChangeMarker.interrupted(lab) == nil)
        let started = ContinuousClock.now
        #expect(LiveChangeMarker.settled(lab, waitingUpTo: 0.3) != nil)
        #expect(ContinuousClock.now - started >= .milliseconds(250), "a reader waits for a change under way")

        LiveChangeMarker.fail(lab: lab)
        #expect(LiveChangeMarker.interrupted(lab)?.failed == true)
        let failedAt = ContinuousClock.now
        #expect(LiveChangeMarker.settled(lab, waitingUpTo: 30) != nil)
        // Well under the 30 s it could wait, however loaded the machine.
        #expect(ContinuousClock.now - failedAt < .seconds(5), "a failed change is not waited for")

        LiveChangeMarker.end(lab: lab)
        #expect(LiveChangeMarker.read(lab) == nil)
        #expect(LiveChangeMarker.settled(lab, waitingUpTo: 5) == nil)
    }
}
