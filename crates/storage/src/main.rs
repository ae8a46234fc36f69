fn main() -> std::process::ExitCode {
    newsflow_storage::main()
}
