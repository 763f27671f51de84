import Foundation

/// libFuzzer's per-input callback. Defined in every build; only the fuzzer build calls it.
@_cdecl("LLVMFuzzerTestOneInput")
public func keycardFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FuzzInput.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if KEYCARD_FUZZ
    /// libFuzzer's driver (in libclang_rt.fuzzer, linked by `-sanitize=fuzzer`).
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32
#endif

/// `keycard-fuzz [libFuzzer flags] [corpus...]` in the fuzzer build (scripts/fuzz); in a plain build,
/// `keycard-fuzz FILE|FOLDER...` replays inputs through the loader (what the tests do with the
/// committed corpus) and prints how many were read and accepted.
@main
enum KeycardFuzz {
    static func main() {
        #if KEYCARD_FUZZ
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in keycardFuzzTestOneInput(data, size) })
        #else
            var inputs = 0
            var accepted = 0
            for argument in CommandLine.arguments.dropFirst() {
                for path in files(argument) {
                    guard let data = FileManager.default.contents(atPath: path) else {
                        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                        exit(2)
                    }
                    inputs += 1
                    if data.withUnsafeBytes(FuzzInput.run) { accepted += 1 }
                }
            }
            print("replayed \(inputs) inputs, \(accepted) accepted")
        #endif
    }

    /// `path` itself, or the regular files directly inside it, sorted.
    static func files(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }.filter { file in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }
}
