#pragma once

// libfulcrum, the client side of Fulcrum: everything an application needs to balance its own
// connections over a set of servers. See docs/client-library.md.
//
//   fulcrum::client::ServerManager   the server manager: ordered servers, rotation on failure,
//                                    rebalancing
//   fulcrum::client::Connector       the retrying connector: retries, then alternative servers
//   fulcrum::client::Pinger          the probe a rebalance runs (TcpPinger by default)

#include "client/connector.h"
#include "client/errors.h"
#include "client/pinger.h"
#include "client/rebalance_interval.h"
#include "client/server_manager.h"
