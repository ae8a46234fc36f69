//! Where the MiniLM models compute: the CPU (the default, and the path the tests run) or a
//! CUDA GPU.
//!
//! A process computes on one device, chosen once before its models load ([`select`]); every
//! encoder and head loaded after that holds its weights there, and each batch's tensors are
//! made on its encoder's device. The CUDA backend is compiled in only with the `cuda` cargo
//! feature (building it needs the CUDA toolkit); without it, asking for a GPU is an error at
//! start, never a quiet fall back to the CPU. Training always runs on the CPU.

use std::sync::OnceLock;

use candle_core::Device;

use crate::error::NlpError;

/// The environment variable (and flag, `--device`) that chooses the device.
pub const DEVICE_ENV: &str = "NEWSFLOW_DEVICE";

/// A compute device, as configured: `cpu`, `cuda` (the first GPU) or `cuda:N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ComputeDevice {
    /// The CPU.
    #[default]
    Cpu,
    /// The CUDA GPU of this ordinal.
    Cuda(usize),
}

impl std::str::FromStr for ComputeDevice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("unknown device {s:?}: expected cpu, cuda or cuda:N")),
        }
    }
}

impl std::fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

static SELECTED: OnceLock<(ComputeDevice, Device)> = OnceLock::new();

/// Chooses the device this process's models compute on. Choosing the device already chosen
/// again is fine; choosing another is an error (models already loaded would be on the first).
pub fn select(choice: ComputeDevice) -> Result<(), NlpError> {
    if SELECTED.get().is_none() {
        let device = open(choice)?;
        // Two threads choosing at once: one wins, and the check below judges the other.
        let _ = SELECTED.set((choice, device));
    }
    match SELECTED.get() {
        Some((chosen, _)) if *chosen == choice => Ok(()),
        Some((chosen, _)) => Err(NlpError::Device(format!(
            "this process computes on {chosen} already; it cannot switch to {choice}"
        ))),
        None => Err(NlpError::Device("no compute device was recorded".into())),
    }
}

/// The device chosen with [`select`], the CPU when none was.
pub fn selected() -> Device {
    SELECTED
        .get()
        .map_or(Device::Cpu, |(_, device)| device.clone())
}

/// Opens `choice`: the CPU always; a GPU only in a build with the `cuda` feature, on a
/// machine with that GPU.
pub fn open(choice: ComputeDevice) -> Result<Device, NlpError> {
    match choice {
        ComputeDevice::Cpu => Ok(Device::Cpu),
        ComputeDevice::Cuda(_) if !candle_core::utils::cuda_is_available() => {
            Err(NlpError::Device(format!(
                "{DEVICE_ENV}={choice}: this build has no CUDA support; build it with \
                 `--features cuda` (and the CUDA toolkit), or use cpu"
            )))
        }
        ComputeDevice::Cuda(n) => Device::new_cuda(n).map_err(|e| {
            NlpError::Device(format!("{DEVICE_ENV}={choice}: cannot open the GPU: {e}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_and_print() {
        for (text, device) in [
            ("cpu", ComputeDevice::Cpu),
            (" CPU ", ComputeDevice::Cpu),
            ("cuda", ComputeDevice::Cuda(0)),
            ("gpu", ComputeDevice::Cuda(0)),
            ("cuda:1", ComputeDevice::Cuda(1)),
        ] {
            assert_eq!(text.parse::<ComputeDevice>(), Ok(device), "{text}");
        }
        assert_eq!(ComputeDevice::Cuda(1).to_string(), "cuda:1");
        for bad in ["", "tpu", "cuda:", "cuda:x", "cuda:-1", "metal"] {
            let err = bad.parse::<ComputeDevice>().unwrap_err();
            assert!(err.contains("expected cpu, cuda or cuda:N"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_cpu_always_opens() {
        assert!(matches!(open(ComputeDevice::Cpu), Ok(Device::Cpu)));
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn a_gpu_without_the_cuda_feature_is_a_clear_error() {
        let err = open(ComputeDevice::Cuda(0)).unwrap_err().to_string();
        assert!(err.contains("--features cuda"), "{err}");
    }
}
