//! Opening connections and channels.

use lapin::{Channel, Connection, ConnectionProperties, options::ConfirmSelectOptions};

use crate::{BusConfig, BusError, Topology};

/// Opens a connection, with the configured timeout.
pub(crate) async fn connect(config: &BusConfig, role: &str) -> Result<Connection, BusError> {
    let properties = ConnectionProperties::default()
        .with_connection_name(format!("{}-{role}", config.connection_name).into());
    match tokio::time::timeout(
        config.connect_timeout,
        Connection::connect(&config.url, properties),
    )
    .await
    {
        Ok(result) => result.map_err(BusError::Unavailable),
        Err(_) => Err(BusError::Unavailable(lapin::Error::from(
            std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        ))),
    }
}

/// A channel in confirm mode with the topology declared: ready to publish.
pub(crate) async fn confirmed_channel(
    connection: &Connection,
    topology: &Topology,
) -> Result<Channel, BusError> {
    let channel = connection
        .create_channel()
        .await
        .map_err(BusError::Unavailable)?;
    // Without confirm mode every confirm resolves as NotRequested: nothing would be known.
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(BusError::Unavailable)?;
    topology.declare(&channel).await?;
    Ok(channel)
}
