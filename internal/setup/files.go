package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// The files setup writes in the output directory.
const (
	AppIDFile         = "app-id"
	PrivateKeyFile    = "private-key.pem"
	WebhookSecretFile = "webhook-secret"
)

// Files are the absolute paths of the written credentials.
type Files struct {
	Dir                              string
	AppID, PrivateKey, WebhookSecret string
}

// credentialFiles names the files in dir, made absolute so the printed
// settings work from any directory.
func credentialFiles(dir string) (Files, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Files{}, fmt.Errorf("output directory %s: %w", dir, err)
	}
	return Files{
		Dir:           abs,
		AppID:         filepath.Join(abs, AppIDFile),
		PrivateKey:    filepath.Join(abs, PrivateKeyFile),
		WebhookSecret: filepath.Join(abs, WebhookSecretFile),
	}, nil
}

func (f Files) all() []string { return []string{f.AppID, f.PrivateKey, f.WebhookSecret} }

// checkWritable fails when the directory is missing or any of the files
// exists (unless force), before an App is registered whose credentials
// could then not be written.
func (f Files) checkWritable(force bool) error {
	dir := f.Dir
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("output directory %s is not a directory", dir)
	}
	if force {
		return nil
	}
	var exist []error
	for _, p := range f.all() {
		if _, err := os.Lstat(p); err == nil {
			exist = append(exist, fmt.Errorf("%s already exists (use --force to overwrite it)", p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			exist = append(exist, fmt.Errorf("check %s: %w", p, err))
		}
	}
	return errors.Join(exist...)
}

// write stores the credentials, each file mode 0600. Without force an
// existing file is never touched; with force a file is replaced through a
// rename, so the new one has mode 0600 whatever the old one had.
func (f Files) write(c *Credentials, force bool) error {
	contents := []struct {
		path string
		data []byte
	}{
		{f.AppID, []byte(strconv.FormatInt(c.AppID, 10) + "\n")},
		{f.PrivateKey, c.PrivateKeyPEM},
		{f.WebhookSecret, c.WebhookSecret},
	}
	for _, w := range contents {
		if err := writeFile(w.path, w.data, force); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, data []byte, force bool) error {
	if !force {
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists (use --force to overwrite it)", path)
			}
			return fmt.Errorf("write %s: %w", path, err)
		}
		_, werr := fh.Write(data)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write %s: %w", path, werr)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
