# Debian packages (docs/packaging.md), built by `make deb`, i.e. the `deb` target:
#   fulcrum_<version>_amd64.deb        the three programs, their manual pages, the systemd unit,
#                                      /etc/fulcrum/fulcrum.yaml (a conffile), the docs
#   libfulcrum-dev_<version>_amd64.deb the client library: libfulcrum.a, headers, CMake package,
#                                      pkg-config file (src/client/CMakeLists.txt)
# CPack's DEB generator rather than debhelper: the build is CMake, whose install() rules already
# say where everything goes, and CPack turns them into .debs without a debian/rules that would
# run a second, differently configured build. What dh would add on its own (the system user, the
# unit's enablement, stripping, shlibs Depends) is spelled out below and in packaging/debian/.
#
# The install rules of the `server` component are EXCLUDE_FROM_ALL: a plain `cmake --install`
# stays the library install it always was (tests/client install_package), and never writes to
# /etc or /lib/systemd. cpack installs each component by name, which includes them.
include(GNUInstallDirs)

set(fulcrum_debian_dir ${PROJECT_SOURCE_DIR}/packaging/debian)
set(fulcrum_package_staging ${PROJECT_BINARY_DIR}/packaging)

# The changelog's newest entry is the package's version: refuse to build one that disagrees.
file(STRINGS ${fulcrum_debian_dir}/changelog fulcrum_changelog_head LIMIT_COUNT 1)
if(NOT fulcrum_changelog_head MATCHES "^fulcrum \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog starts with '${fulcrum_changelog_head}': "
                      "add an entry for version ${PROJECT_VERSION}")
endif()

# Manual pages from the programs' own --help (help2man), so they never drift from it.
find_program(FULCRUM_HELP2MAN help2man)
find_program(FULCRUM_GZIP gzip REQUIRED)
set(fulcrum_fulcrum_whatis "HTTP/1.1 and TCP load-balancing reverse proxy")
set(fulcrum_fulcrum-agent_whatis "server agent: reports a backend's load to fulcrum")
set(fulcrum_fulcrum-sim_whatis "balancing simulator on simulated time")
set(fulcrum_manual_pages "")
foreach(program fulcrum fulcrum-agent fulcrum-sim)
  set(page ${fulcrum_package_staging}/man/${program}.1.gz)
  # --version-string: fulcrum-sim has no --version; one version for all three pages. The
  # program by name, found on PATH: its usage line then says `fulcrum`, not the build path.
  set(help2man ${FULCRUM_HELP2MAN} --no-info --no-discard-stderr
      --version-string=${PROJECT_VERSION} --name=${fulcrum_${program}_whatis} ${program})
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${fulcrum_package_staging}/man
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${help2man}" -DOUTPUT=${page} -DGZIP=${FULCRUM_GZIP}
            -DPATH_PREFIX=$<TARGET_FILE_DIR:${program}>
            -P ${PROJECT_SOURCE_DIR}/cmake/gzip_output.cmake
    DEPENDS ${program} ${PROJECT_SOURCE_DIR}/cmake/gzip_output.cmake
    COMMENT "Manual page ${program}(1) from ${program} --help"
    VERBATIM)
  list(APPEND fulcrum_manual_pages ${page})
endforeach()

set(fulcrum_changelog_gz ${fulcrum_package_staging}/changelog.gz)
add_custom_command(
  OUTPUT ${fulcrum_changelog_gz}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${fulcrum_package_staging}
  COMMAND ${CMAKE_COMMAND} "-DCOMMAND=cat;${fulcrum_debian_dir}/changelog"
          -DOUTPUT=${fulcrum_changelog_gz} -DGZIP=${FULCRUM_GZIP}
          -P ${PROJECT_SOURCE_DIR}/cmake/gzip_output.cmake
  DEPENDS ${fulcrum_debian_dir}/changelog ${PROJECT_SOURCE_DIR}/cmake/gzip_output.cmake
  VERBATIM)
add_custom_target(fulcrum_package_files DEPENDS ${fulcrum_manual_pages} ${fulcrum_changelog_gz})

# The `server` component: the package `fulcrum`.
install(TARGETS fulcrum fulcrum-agent fulcrum-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${fulcrum_manual_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT server EXCLUDE_FROM_ALL)
# Absolute: a package's /etc and systemd directory do not move with the prefix (/usr).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/fulcrum.yaml DESTINATION /etc/fulcrum
        COMPONENT server EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/fulcrum.service DESTINATION /lib/systemd/system
        COMPONENT server EXCLUDE_FROM_ALL)
file(GLOB fulcrum_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
foreach(component server dev)
  set(package_name fulcrum)
  if(component STREQUAL "dev")
    set(package_name libfulcrum-dev)
  endif()
  install(FILES ${fulcrum_debian_dir}/copyright ${fulcrum_changelog_gz}
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package_name}
          COMPONENT ${component} EXCLUDE_FROM_ALL)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${fulcrum_docs}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/fulcrum COMPONENT server EXCLUDE_FROM_ALL)

set(FULCRUM_DEB_MAINTAINER "Fulcrum maintainers <fulcrum@example.invalid>"
    CACHE STRING "Maintainer field of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fulcrum)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${FULCRUM_DEB_MAINTAINER})
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL server dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${FULCRUM_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Maintainer scripts 0755, conffiles 0644, as dpkg-deb wants them.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME fulcrum)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
# Depends: dpkg-shlibdeps on the programs, plus what the maintainer scripts call.
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_COMPONENT_SERVER_DESCRIPTION
    "high-availability HTTP/1.1 and TCP load balancer\n\
fulcrum is a reverse proxy that spreads requests and connections over pools of\n\
servers and hides failed, slow or overloaded servers from clients: balancing\n\
policies, active health checks, server agents, passive tracking and retries,\n\
TLS on both sides, DNS, file and etcd discovery, hot reload and an admin API.\n\
.\n\
The package holds fulcrum, fulcrum-agent (the agent a backend runs to report\n\
its load) and fulcrum-sim (a balancing simulator), a systemd unit running\n\
fulcrum as the user fulcrum with /etc/fulcrum/fulcrum.yaml, and the docs.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    ${fulcrum_debian_dir}/conffiles ${fulcrum_debian_dir}/postinst
    ${fulcrum_debian_dir}/prerm ${fulcrum_debian_dir}/postrm)

# Debian's convention for a static library and its headers: a -dev package of its own, so that a
# server needs no headers and a developer no daemon.
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libfulcrum-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The headers use standalone Asio; the library calls nothing outside libstdc++ and pthreads.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libasio-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Fulcrum client library (static library and headers)\n\
libfulcrum is Fulcrum's balancing core as a C++20 library: a server manager\n\
and a retrying connector on standalone Asio that pick a server per connection\n\
with the same policies, health and passive tracking as the fulcrum proxy.\n\
.\n\
The package holds libfulcrum.a, its headers, a CMake package (find_package(\n\
Fulcrum), target Fulcrum::fulcrum) and a pkg-config file (fulcrum.pc).")

include(CPack)

# `make deb`: build only what the packages hold (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY, top
# CMakeLists.txt, keeps cpack from building every test and benchmark first), then package.
add_custom_target(deb
  COMMAND ${CMAKE_CPACK_COMMAND} --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake
  DEPENDS fulcrum fulcrum-agent fulcrum-sim fulcrum_package fulcrum_package_files
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
  COMMENT "Debian packages in ${CPACK_PACKAGE_DIRECTORY}"
  VERBATIM)
