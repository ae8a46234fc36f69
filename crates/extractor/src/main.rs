fn main() -> std::process::ExitCode {
    newsflow_extractor::main()
}
