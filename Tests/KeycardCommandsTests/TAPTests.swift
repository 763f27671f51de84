import Foundation
import KeycardModel
import KeycardValues
import Testing

@testable import KeycardCommands
@testable import KeycardScenario

/// `keycard run -o tap`: TAP version 14 as netassert's consumers read it.
@Suite struct TAPTests {
    static func step(_ index: Int, passed: Bool, name: String?, summary: String?, results: [ResultRecord]? = nil) -> StepReport {
        StepReport(index: index, name: name, kind: .probe, passed: passed, results: results, summary: summary)
    }

    @Test func versionPlanPointsAndDiagnostics() throws {
        let wrong = ProbeResult(
            from: ObjectKey("prod", "web"), to: .pod(ObjectKey("prod", "db")), port: .init(.tcp, 5432), expected: .deny, model: .deny,
            observed: .allow)
        let reports = [
            Report(
                scenario: "one", enforcement: .pod, passed: false,
                steps: [
                    Self.step(1, passed: true, name: "flat # network", summary: "2 probes"),
                    Self.step(2, passed: false, name: nil, summary: "1 of 2 \"wrong\"", results: [.probe(wrong)]),
                ]),
            Report(scenario: "two", enforcement: .node, passed: true, steps: [Self.step(1, passed: true, name: "only", summary: nil)]),
        ]
        let lines = TAPRenderer.render(reports).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines == [
                "TAP version 14",
                "1..3",
                "ok 1 - one: step 1 probe: flat \\# network",
                "not ok 2 - one: step 2 probe",
                "  ---",
                "  message: \"1 of 2 \\\"wrong\\\"\"",
                "  severity: fail",
                "  cells:",
                "    - \"prod/web -> prod/db TCP/5432: expected deny, observed allow, model deny\"",
                "  ...",
                "ok 3 - two: step 1 probe: only",
            ])
    }

    /// A probe step whose every cell was skipped (SCTP) is a SKIP directive in TAP and a
    /// `<skipped/>` case in JUnit; one real cell among them makes it an ordinary pass.
    @Test func allSkippedStepIsASkipNotAProof() throws {
        func cell(_ observed: Observation, _ proto: TransportProtocol) -> ResultRecord {
            var result = ProbeResult(
                from: ObjectKey("x", "a"), to: .pod(ObjectKey("x", "b")), port: .init(proto, 80), expected: .allow, model: .allow,
                observed: observed)
            if observed == .skipped { result.reason = "SCTP # not available" }
            return .probe(result)
        }
        let steps = [
            Self.step(1, passed: true, name: "sctp", summary: nil, results: [cell(.skipped, .sctp), cell(.skipped, .sctp)]),
            Self.step(2, passed: true, name: "mixed", summary: nil, results: [cell(.skipped, .sctp), cell(.allow, .tcp)]),
            Self.step(3, passed: true, name: "apply", summary: nil, results: nil),
        ]
        #expect(steps.map(\StepReport.skipReason) == ["SCTP # not available", nil, nil])
        let report = Report(scenario: "s", enforcement: .pod, passed: true, steps: steps)
        let tap = TAPRenderer.render([report]).split(separator: "\n").map(String.init)
        #expect(
            tap == [
                "TAP version 14", "1..3", "ok 1 - s: step 1 probe: sctp # SKIP SCTP \\# not available", "ok 2 - s: step 2 probe: mixed",
                "ok 3 - s: step 3 probe: apply",
            ])
        let junit = JUnitRenderer.render([report])
        #expect(junit.contains("<testsuites name=\"keycard\" tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"1\">"))
        #expect(junit.contains("name=\"step 1 probe: sctp\"><skipped message=\"SCTP # not available\"/></testcase>"))
        #expect(junit.contains("name=\"step 2 probe: mixed\"/>"))
        // A wrong expectation among skipped cells is a failure, never a SKIP.
        let failed = Self.step(1, passed: false, name: "sctp", summary: "wrong", results: [cell(.skipped, .sctp)])
        #expect(failed.skipReason == nil)
        #expect(
            TAPRenderer.render([Report(scenario: "s", enforcement: .pod, passed: false, steps: [failed])]).contains(
                "not ok 1 - s: step 1 probe: sctp\n"))
    }

    /// XML 1.0 (§2.2) has no character for C0 controls but tab, line feed and carriage return, nor
    /// for U+FFFE and U+FFFF: JUnit writes each as U+FFFD, never raw. Inside an attribute a line
    /// break or tab is a character reference, which attribute-value normalization (§3.3.3) keeps;
    /// a raw one would be read back as a space. The document parses with Python's expat and gives
    /// back the name as written, less the characters XML cannot hold.
    @Test func junitWritesOnlyXMLCharactersAndKeepsLineBreaksInAttributes() throws {
        let name = "back\\slash \u{01}ctl \u{1B}[31mred tab\there \u{FFFE} \u{FFFF} two\nlines\r\nend"
        let wrong = ProbeResult(
            from: ObjectKey("x", "a"), to: .pod(ObjectKey("x", "b")), port: .icmpEcho, expected: .deny, model: .allow, observed: .allow)
        let report = Report(
            scenario: "s", enforcement: .pod, passed: false,
            steps: [Self.step(1, passed: false, name: name, summary: "first\nsecond", results: [.probe(wrong)])])
        let junit = JUnitRenderer.render([report])
        let forbidden = junit.unicodeScalars.filter {
            ($0.value < 0x20 && ![0x09, 0x0A, 0x0D].contains($0.value)) || $0.value == 0xFFFE || $0.value == 0xFFFF
        }
        #expect(forbidden.isEmpty, "\(forbidden.map { String($0.value, radix: 16) })")
        #expect(
            junit.contains(
                "name=\"step 1 probe: back\\slash \u{FFFD}ctl \u{FFFD}[31mred tab&#9;here \u{FFFD} \u{FFFD} two&#10;lines&#13;&#10;end\""))
        #expect(junit.contains("<failure message=\"first&#10;second\">"))
        // Parsed back: every attribute keeps its line breaks and tab.
        let script = """
            import sys, xml.dom.minidom
            document = xml.dom.minidom.parseString(sys.stdin.buffer.read())
            case = document.getElementsByTagName("testcase")[0]
            failure = document.getElementsByTagName("failure")[0]
            sys.stdout.write(repr(case.getAttribute("name")) + "|" + repr(failure.getAttribute("message")))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(junit.utf8))
        try input.fileHandleForWriting.close()
        let parsed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(
            parsed
                == "'step 1 probe: back\\\\slash \u{FFFD}ctl \u{FFFD}[31mred tab\\there \u{FFFD} \u{FFFD} two\\nlines\\r\\nend'|'first\\nsecond'"
        )
    }

    /// A run that stopped part way (a scenario's error, a signal) read as passing: TAP printed the
    /// completed scenarios' `ok` points and nothing else, JUnit `errors="0"`. TAP 14 ends it with
    /// `Bail out!`, JUnit adds the scenario as a suite with an `<error>`, counted in the run's errors.
    @Test func anAbortedRunBailsOutAndIsAJUnitError() throws {
        let reports = [
            Report(scenario: "okpass", enforcement: .pod, passed: true, steps: [Self.step(1, passed: true, name: nil, summary: nil)])
        ]
        let aborted = RunAbort(
            Exit.invalid, failure: "pod x/a: command /nonexistent did not start", scenario: "rvfbad", notRun: 1)
        #expect(aborted.reason == "pod x/a: command /nonexistent did not start (1 later scenario not run)")
        let tap = TAPRenderer.render(reports, aborted: aborted).split(separator: "\n").map(String.init)
        #expect(
            tap == [
                "TAP version 14", "1..1", "ok 1 - okpass: step 1 probe",
                "Bail out! rvfbad: pod x/a: command /nonexistent did not start (1 later scenario not run)",
            ])
        let junit = JUnitRenderer.render(reports, aborted: aborted)
        #expect(junit.contains("<testsuites name=\"keycard\" tests=\"2\" failures=\"0\" errors=\"1\" skipped=\"0\">"))
        #expect(junit.contains("<testsuite name=\"rvfbad\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">"))
        #expect(
            junit.contains(
                "<testcase classname=\"rvfbad\" name=\"run\"><error message=\"pod x/a: command /nonexistent did not start (1 later scenario not run)\"/></testcase>"
            ))
        // A signal's exit status (128 + it) is an interruption.
        let interrupted = RunAbort(Exit.interrupted(by: 2), failure: nil, scenario: nil, notRun: 0)
        #expect(TAPRenderer.render([], aborted: interrupted) == "TAP version 14\n1..0\nBail out! interrupted by signal 2")
        // A run that finished has neither.
        #expect(!TAPRenderer.render(reports).contains("Bail out!") && JUnitRenderer.render(reports).contains("errors=\"0\""))
    }
}
