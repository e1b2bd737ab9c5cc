// fulcrum-test-certs: writes a CA and certificates signed by it, for integration tests.
//
//   fulcrum-test-certs DIR ITEM...
//     ca=STEM              start a new CA, written to DIR/STEM.pem and DIR/STEM.key; later
//                          certificates are signed by it (without one first, "ca" is made)
//     STEM=SAN[,SAN...]    a server certificate DIR/STEM.pem and key DIR/STEM.key; a SAN that
//                          is an IP address becomes an IP SAN, "*.name" a wildcard, and the
//                          word !expired makes the certificate expired since yesterday; !no-cn
//                          leaves out the Common Name (etcd's gateway refuses client
//                          certificates that have one)
//
// Example: fulcrum-test-certs /tmp/certs localhost=localhost,127.0.0.1 wild=*.example.com

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "tls/client_context.h"
#include "tls/test_certs.h"

namespace {

using namespace fulcrum::tls;

std::filesystem::path out_dir;

void write(const std::string& stem, const testing::KeyAndCert& pair) {
  for (const auto& [suffix, text] : {std::pair{".pem", testing::to_pem(pair.cert.get())},
                                     std::pair{".key", testing::to_pem(pair.key.get())}}) {
    std::ofstream out(out_dir / (stem + suffix), std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + stem + suffix + " in " + out_dir.string());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR ca=STEM | STEM=SAN[,SAN...][,!expired] ...\n", argv[0]);
    return 2;
  }
  try {
    out_dir = argv[1];
    std::filesystem::create_directories(out_dir);
    std::optional<testing::KeyAndCert> ca;
    for (int i = 2; i < argc; ++i) {
      const std::string item = argv[i];
      const std::size_t equals = item.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw std::runtime_error("expected ca=STEM or STEM=SANS, got '" + item + "'");
      }
      const std::string stem = item.substr(0, equals);
      const std::string value = item.substr(equals + 1);
      if (stem == "ca") {
        ca = testing::make_ca(value);
        write(value, *ca);
        continue;
      }
      if (!ca) {
        ca = testing::make_ca("ca");
        write("ca", *ca);
      }
      testing::CertSpec spec;
      spec.common_name = stem;
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::string san = value.substr(start, comma - start);
        if (san == "!no-cn") {
          spec.common_name.clear();
        } else if (san == "!expired") {
          spec.valid_from = std::chrono::hours(-48);
          spec.valid_until = std::chrono::hours(-24);
        } else if (!san.empty()) {
          (is_ip_address(san) ? spec.ips : spec.dns).push_back(san);
        }
        start = comma + 1;
      }
      write(stem, testing::make_leaf(*ca, spec));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fulcrum-test-certs: %s\n", e.what());
    return 1;
  }
  return 0;
}
