fn main() -> std::process::ExitCode {
    newsflow_stance::main()
}
