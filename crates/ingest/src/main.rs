fn main() -> std::process::ExitCode {
    newsflow_ingest::main()
}
