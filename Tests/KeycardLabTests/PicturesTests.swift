import Foundation
import Glibc
import KeycardTestSupport
import Testing

/// `keycard graph -o svg` and `keycard run -o html`, rendered by headless Chromium (Debian
/// `chromium`): the screenshot has the window's size and is not blank (a share of non-white
/// pixels, many colours). Root, for the run's lab (uniquely named, torn down by the run).
@Suite(.serialized) struct PicturesTests {
    static let width = 1200
    static let height = 900

    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: KeycardCLI.binary), "keycard is not built")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "chromium is not installed (scripts/setup)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/dot"), "graphviz is not installed (scripts/setup)")
    }

    static func temporary(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keycard-pictures-\(UUID().uuidString)\(suffix)").path
    }

    @Test func graphSVGRendersInChromium() throws {
        let graph = try KeycardCLI.run(["graph", RepositoryFiles.absolute("scenarios/lateral-scan.yaml"), "-o", "svg"])
        try #require(graph.code == 0, "\(graph.err)")
        #expect(graph.out.contains("<svg"))
        #expect(graph.out.contains("namespace monitoring"))
        #expect(graph.out.contains("stroke=\"#1a7f37\""), "allowed edges are green")
        #expect(graph.out.contains("stroke-dasharray"), "denied-but-probed edges are dashed")
        #expect(graph.out.contains(">TCP 6379<"), "edges carry their ports")
        let svg = Self.temporary(".svg")
        try graph.out.write(toFile: svg, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: svg) }
        try Self.checkScreenshot(of: svg)
    }

    @Test func htmlReportRendersInChromiumWithNoNetwork() throws {
        try #require(geteuid() == 0, "keycard run builds a lab: root")
        let lab = "pic-\(getpid() % 100_000)"
        let text = try String(contentsOfFile: RepositoryFiles.absolute("scenarios/lateral-scan.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  name: lateral-scan\n", with: "  name: \(lab)\n")
        let scenario = Self.temporary(".yaml")
        try text.write(toFile: scenario, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scenario) }
        let run = try KeycardCLI.run(["run", scenario, "-o", "html"])
        #expect(run.code == 0, "\(run.err)")
        let html = run.out
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg"), "the graph is inline")
        #expect(html.contains("\(lab) <span class=\"pass\">PASSED</span>"))
        #expect(html.contains("<h3>Matrices</h3>") && html.contains("<h3>Flows</h3>") && html.contains("<h3>Failures</h3>"))
        // Self-contained: nothing to fetch (the SVG's xmlns names are namespaces, not requests).
        for fetch in ["<script", "<link", "src=", "url(", "@import"] { #expect(!html.contains(fetch), "\(fetch)") }
        let page = Self.temporary(".html")
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: page) }
        try Self.checkScreenshot(of: page)
        #expect(!(try KeycardCLI.run(["status"]).out.contains(lab)), "the run tore its lab down")
    }

    /// Screenshots `file` in headless Chromium (no network needed: a file URL) and checks the PNG.
    static func checkScreenshot(of file: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let png = temporary(".png")
        defer { try? FileManager.default.removeItem(atPath: png) }
        let chromium = try run(
            "/usr/bin/chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=\(width),\(height)",
                "--screenshot=\(png)", "file://\(file)",
            ])
        try #require(FileManager.default.fileExists(atPath: png), "no screenshot: \(chromium)", sourceLocation: sourceLocation)
        let measured = try run("/usr/bin/python3", ["-c", pngStatistics, png]).split(separator: " ").map(String.init)
        try #require(measured.count == 4, "\(measured)", sourceLocation: sourceLocation)
        #expect(measured[0] == "\(width)" && measured[1] == "\(height)", "size \(measured)", sourceLocation: sourceLocation)
        let inked = Double(measured[2]) ?? 0
        let colours = Int(measured[3]) ?? 0
        #expect(inked > 0.02, "only \(inked) of the pixels are not white", sourceLocation: sourceLocation)
        #expect(colours > 20, "only \(colours) colours", sourceLocation: sourceLocation)
    }

    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Decodes an 8-bit RGB(A) PNG with the standard library (zlib and the five row filters) and
    /// prints `width height inked colours`: the share of sampled pixels that are not white, and
    /// how many distinct colours were sampled (every 4th pixel of every 2nd row).
    static let pngStatistics = """
        import sys, zlib, struct
        data = open(sys.argv[1], 'rb').read()
        assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
            if kind == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            elif kind == b'IDAT': idat += body
        assert depth == 8 and ctype in (2, 6)
        bpp = 3 if ctype == 2 else 4
        raw, stride = zlib.decompress(idat), w * bpp
        prev, inked, sampled, colours = bytearray(stride), 0, 0, set()
        for y in range(h):
            f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            if f == 1:
                for i in range(bpp, stride): line[i] = (line[i] + line[i - bpp]) & 255
            elif f == 2:
                for i in range(stride): line[i] = (line[i] + prev[i]) & 255
            elif f == 3:
                for i in range(stride): line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
            elif f == 4:
                for i in range(stride):
                    a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            if y % 2 == 0:
                for x in range(0, stride, bpp * 4):
                    px = bytes(line[x:x + 3]); colours.add(px); sampled += 1
                    if px != b'\\xff\\xff\\xff': inked += 1
            prev = line
        print(w, h, round(inked / sampled, 4), len(colours))
        """
}
