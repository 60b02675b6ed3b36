# packaging/package.cmake - what "cmake --install" puts where, and the Debian
# package (CPack DEB): cmake --build BUILD --target package ->
# vmleak_<version>-<revision>_<arch>.deb (vmleak_0.1.0-1_amd64.deb). Configure a packaging build with
# -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr (Debian packages live
# in /usr). Included by the top CMakeLists.txt.

set(VMLEAK_PKG_DIR ${PROJECT_BINARY_DIR}/packaging)
set(VMLEAK_DOCDIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/vmleak)

# The Debian revision of the package: a non-native package, so its changelog
# is changelog.Debian.gz. The changelog's newest entry must name this version.
set(VMLEAK_DEB_REVISION 1)
set(VMLEAK_DEB_VERSION ${PROJECT_VERSION}-${VMLEAK_DEB_REVISION})
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/changelog vmleak_changelog_head LIMIT_COUNT 1)
if(NOT vmleak_changelog_head MATCHES "^vmleak \\(${VMLEAK_DEB_VERSION}\\) ")
	message(FATAL_ERROR "packaging/changelog: the first entry is not version "
		"${VMLEAK_DEB_VERSION}: '${vmleak_changelog_head}'")
endif()

# Man page and changelog gzipped as Debian wants them: -9, no name or time
# stamp (-n), so the package is reproducible.
find_program(VMLEAK_GZIP gzip REQUIRED)
function(vmleak_gzip src out)
	add_custom_command(OUTPUT ${out}
		COMMAND ${CMAKE_COMMAND} -E make_directory ${VMLEAK_PKG_DIR}
		COMMAND ${VMLEAK_GZIP} -9nc ${src} > ${out}
		DEPENDS ${src} VERBATIM)
endfunction()
vmleak_gzip(${PROJECT_SOURCE_DIR}/man/vmleak.1 ${VMLEAK_PKG_DIR}/vmleak.1.gz)
vmleak_gzip(${CMAKE_CURRENT_LIST_DIR}/changelog ${VMLEAK_PKG_DIR}/changelog.Debian.gz)
add_custom_target(vmleak_docs ALL DEPENDS ${VMLEAK_PKG_DIR}/vmleak.1.gz
	${VMLEAK_PKG_DIR}/changelog.Debian.gz)

install(FILES ${VMLEAK_PKG_DIR}/vmleak.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/vmleak.bash-completion
	DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions RENAME vmleak)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/copyright ${VMLEAK_PKG_DIR}/changelog.Debian.gz
	DESTINATION ${VMLEAK_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vmleak)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "vmleak maintainers <maintainers@users.noreply.r-seed-da456459.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "find virtual-memory leaks by tracing mapping system calls")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
	GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_OUTPUT_FILE_PREFIX ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${VMLEAK_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# runtime dependencies from the shared libraries the binary links (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# the extended description; CPack puts the summary first and indents each line
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "vmleak traces a program with ptrace, the way strace does, decodes every
mmap, munmap, mremap, brk, shmat and shmdt into a ledger of the live regions
of each address space, and takes a backtrace at each mapping call. When the
program exits, or when vmleak detaches from a running process, it reports the
regions that were never given back, grouped by the call stack that created
them and symbolized to function and source line.

Reports come in text, JSON and folded (flame graph) formats; blame rules tell
the program's own leaks from the C runtime's pools, and suppression files
hide known ones.")
include(CPack)
