#include "tls/stream.h"

#include "tls/client_context.h"
#include "tls/server_context.h"

namespace fulcrum::tls {

Stream::Stream(Socket socket, SslPtr ssl, Role role)
    : impl_(std::in_place_type<TlsSocket>, std::move(socket), ssl.release()), role_(role) {
  // Asio asks OpenSSL to free a connection's buffers whenever they empty, which saves memory
  // on idle connections but allocates on every busy read and write; the request path must not
  // allocate, so the buffers stay.
  SSL_clear_mode(std::get<TlsSocket>(impl_).native_handle(), SSL_MODE_RELEASE_BUFFERS);
}

Stream Stream::accept(Socket socket, const ServerTlsContext& context) {
  return Stream(std::move(socket), context.new_session(), Role::kServer);
}

Stream Stream::connect(Socket socket, const ClientTlsContext& context, std::string_view host) {
  return Stream(std::move(socket), context.new_session(host), Role::kClient);
}

Stream::Socket& Stream::socket() {
  if (auto* tls = std::get_if<TlsSocket>(&impl_)) return tls->next_layer();
  return std::get<Socket>(impl_);
}

SSL* Stream::ssl() {
  auto* tls = std::get_if<TlsSocket>(&impl_);
  return tls != nullptr ? tls->native_handle() : nullptr;
}

std::string_view Stream::alpn() {
  SSL* handle = ssl();
  if (handle == nullptr) return {};
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(handle, &data, &length);
  return {reinterpret_cast<const char*>(data), length};
}

bool Stream::resumed() {
  SSL* handle = ssl();
  return handle != nullptr && SSL_session_reused(handle) == 1;
}

}  // namespace fulcrum::tls
