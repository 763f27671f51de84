import ArgumentParser
import Foundation
import KeycardKernel
import KeycardModel
import KeycardProbe
import KeycardScenario

/// `keycard run FILE...`: build the lab, play every step with real packets, compare, tear down.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Run scenarios for real (as root): exit 0 when every step passed, 1 when an expectation failed, 2 for invalid input or environment."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Scenario files, run one after another; plain Kubernetes manifests (files or folders) run together as one lab.")
    var files: [String]
    @OptionGroup var manifests: ManifestOptions
    @Option(name: .shortAndLong, help: "table, json, junit, markdown, tap (TAP version 14) or html (one self-contained page).") var output:
        ReportFormat = .table
    @Option(help: "pod or node; overrides spec.lab.enforcement.") var enforcement: Enforcement?
    @Flag(help: "Leave the lab up afterwards (keycard down NAME removes it).") var keep = false
    @Option(
        help:
            "Write every probe attempt, scan target and connection of command: programs as Hubble flows (JSON lines, docs/flows.md) to this file."
    )
    var flows: String?
    @Flag(help: "Audit mode for the whole lab (as spec.lab.mode: audit): log would-be drops, enforce nothing.")
    var audit = false

    func run() throws {
        logging.apply()
        let timelines = try ScenarioInput.loadAll(files, manifests)
        // What the files held when read (a live lab left by --keep checks them against later edits).
        let inputs = keep ? timelines.map { LiveInputDigests.of($0.scenario.inputFiles) } : []
        // The mesh's proxy lives in this process: a kept lab would lose it when the run ends.
        if keep, let meshed = timelines.first(where: \.usesMesh) {
            Console.error("\(meshed.scenario.file): --keep: a lab with the mesh cannot be kept yet (its proxy lives in the run)")
            throw Exit.invalid
        }
        try Environment.requireRoot()
        let flowFile = try flows.map { try FlowFile(path: $0) }
        var reports: [Report] = []
        var ran: [Timeline] = []
        var failed = false
        // Consecutive scenarios that need the same lab share it (built once, reprogrammed for each;
        // KEYCARD_LAB_REUSE=0, false, no or off builds one per scenario): it is torn down after the last one.
        let reuse = !keep && LabReuseSetting.enabled(ProcessInfo.processInfo.environment) { Console.error($0) }
        let slot = Interruption.RunSlot()
        // Why the scenario under way could not finish (`execute` prints it on stderr too).
        var failure: String?
        // A later scenario's refusal or an interruption still leaves the reports of those that ran
        // on stdout (CI keeps what was proved), then ends the command with its own status; TAP and
        // JUnit also say the run stopped (`RunAbort`), so the completed part never reads as all of it.
        do {
            try Interruption.tearingDown(slot) { interruption in
                defer { if !keep { slot.run?.tearDown() } }
                for (index, timeline) in timelines.enumerated() {
                    let mode = enforcement ?? timeline.scenario.lab.enforcement
                    var options = ScenarioRun.Options(enforcement: mode, keep: keep, handOff: reuse)
                    options.audit = audit
                    let run =
                        reuse
                        ? ScenarioRun.next(after: slot.run, timeline: timeline, options: options)
                        : ScenarioRun(timeline: timeline, options: options)
                    slot.run = run
                    run.progress = Progress.line
                    run.interruption = interruption
                    if let flowFile {
                        let log = FlowLog(
                            scenario: timeline.scenario.name, labName: run.labName, nodes: timeline.plan.nodes, audit: run.auditing)
                        run.stepFinished = { step in
                            flowFile.write(log.flows(of: step, cluster: timeline.cluster(afterStep: step.index), time: Date()))
                        }
                        // Connections of `command:` programs, from the kernel (conntrack, NFLOG).
                        run.trafficSeen = { index, name, traffic in
                            flowFile.write(
                                log.trafficFlows(
                                    traffic, cluster: timeline.cluster(afterStep: index), step: index, stepName: name, time: Date()))
                        }
                    }
                    let report = try Self.execute(run, file: timeline.scenario.file) { failure = $0 }
                    if keep {
                        // The manifests' timeline stands in the place of the first of them (ScenarioInput).
                        let manifestPaths = ManifestLoader.manifestPaths(files)
                        let fromManifests = manifestPaths.first == timeline.scenario.file
                        try LabDaemon.keep(
                            lab: run.labName, scenario: timeline.scenario.file,
                            manifests: fromManifests ? (manifestPaths, manifests.namespace) : nil, enforcement: mode,
                            afterStep: timeline.scenario.steps.count, inputs: inputs[index], audit: run.auditing)
                    }
                    reports.append(report)
                    ran.append(timeline)
                    failed = failed || !report.passed
                    if output == .table { Console.out(RunTableRenderer(timeline: timeline, report: report).render()) }
                }
            }
        } catch {
            let aborted = RunAbort(
                error, failure: failure, scenario: reports.count < timelines.count ? timelines[reports.count].scenario.name : nil,
                notRun: max(timelines.count - reports.count - 1, 0))
            if Self.emitsOnAbort(output, completed: reports.count, several: timelines.count > 1) {
                try emit(reports, ran: ran, several: timelines.count > 1, aborted: aborted)
            }
            throw error
        }
        try emit(reports, ran: ran, several: timelines.count > 1)
        if failed { throw Exit.failed }
    }
}

extension RunCommand {
    /// Prints the reports of the scenarios that ran in the `-o` format (`table` printed each as it
    /// ended); a JSON array when several scenarios were given, even if fewer ran. A run that stopped
    /// part way (`aborted`) ends TAP with `Bail out!` and adds JUnit's erroring test suite; JSON,
    /// Markdown and HTML hold the completed reports only, the exit status and stderr saying why
    /// the rest is missing.
    /// Whether a run that stopped part way still prints its `-o` document: TAP and JUnit always
    /// (they say it stopped); JSON, Markdown and HTML when a scenario completed, or when several
    /// were given, even if none completed (the README's "an array of them": `[]`, an empty page),
    /// so a reader of the file finds a document, not nothing. `table` printed each as it ended.
    static func emitsOnAbort(_ output: ReportFormat, completed: Int, several: Bool) -> Bool {
        switch output {
        case .table: false
        case .tap, .junit: true
        case .json, .markdown, .html: several || completed > 0
        }
    }

    private func emit(_ reports: [Report], ran: [Timeline], several: Bool, aborted: RunAbort? = nil) throws {
        switch output {
        case .table: break
        case .json: try !several && reports.count == 1 ? Console.json(reports[0]) : Console.json(reports)
        case .junit: Console.out(JUnitRenderer.render(reports, aborted: aborted))
        case .markdown: Console.out(MarkdownRenderer.render(reports))
        case .tap: Console.out(TAPRenderer.render(reports, aborted: aborted))
        case .html:
            Console.out(
                HTMLRenderer.render(
                    zip(ran, reports).map { timeline, report in
                        HTMLRenderer.Entry(timeline: timeline, report: report, graph: Self.pageGraph(timeline))
                    }, aborted: aborted != nil))
        }
    }

    /// The page's picture of `timeline`'s graph: `dot -Tsvg` of it, or, past
    /// `GraphDotRenderer.pageEdgeLimit` drawn edges (or `pageLimit`), why it was left out and how
    /// to get it.
    static func pageGraph(_ timeline: Timeline, pageLimit: Int = GraphDotRenderer.pageEdgeLimit) -> Result<String, Error> {
        let graph = ConnectivityGraph(timeline)
        let drawn = GraphDotRenderer.drawn(graph).count
        guard drawn <= pageLimit else {
            return .failure(
                Graphviz.Failure.omitted(
                    "the graph has \(drawn) edges, more than \(pageLimit): too many for Graphviz to lay out in reasonable time and memory; `keycard graph \(timeline.scenario.file)` prints it as DOT"
                ))
        }
        let dot = GraphDotRenderer.render(graph, title: GraphCommand.title(timeline, step: nil))
        return Result { try Graphviz.svg(dot) }
    }
}

/// `-o` of `keycard run`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, junit, markdown, tap, html
}

extension RunCommand {
    /// `run`'s report: an interruption or an exit code passes through; any other error is printed
    /// with the scenario's `file`, handed to `failed`, and ends the command with exit code 2.
    static func execute(_ run: ScenarioRun, file: String, failed: (String) -> Void = { _ in }) throws -> Report {
        do {
            return try run.execute()
        } catch let interrupted as Interrupted {
            throw interrupted
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Console.error("\(file): \(error)")
            failed("\(error)")
            throw Exit.invalid
        }
    }
}

/// Why a run stopped before every scenario's report: the scenario under way (nil when the signal
/// came after the last one ended), the error or signal, and how many later scenarios never ran.
struct RunAbort: Equatable {
    var scenario: String?
    var reason: String

    init(scenario: String?, reason: String) {
        self.scenario = scenario
        self.reason = reason
    }

    /// From the error that ended the run: a signal's exit status (128 + it, `Interruption`), else
    /// `failure` (what `execute` printed) or the error itself.
    init(_ error: Error, failure: String?, scenario: String?, notRun: Int) {
        var reason: String
        if let exit = error as? ExitCode, exit.rawValue > 128 {
            reason = "interrupted by signal \(exit.rawValue - 128)"
        } else {
            reason = failure ?? "\(error)"
        }
        if notRun > 0 { reason += " (\(notRun) later scenario\(notRun == 1 ? "" : "s") not run)" }
        self.init(scenario: scenario, reason: reason)
    }

    /// `scenario: reason`, or the reason alone.
    var text: String { scenario.map { "\($0): \(reason)" } ?? reason }
}
