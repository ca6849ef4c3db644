// TaskThread: a queue and the thread that drains it.
#include "projects/task_thread.h"

namespace glassbox::projects {

TaskThread::TaskThread() { m_thread = std::thread([this] { loop(); }); }

TaskThread::~TaskThread() { stop(); }

bool TaskThread::post(std::function<void()> task) {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return false;
    m_tasks.push_back(std::move(task));
    m_wake.notify_one();
    return true;
}

void TaskThread::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_wake.notify_one();
    }
    if (m_thread.joinable() && m_thread.get_id() != std::this_thread::get_id()) m_thread.join();
}

void TaskThread::loop() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_tasks.empty(); });
            if (m_tasks.empty()) return;
            task = std::move(m_tasks.front());
            m_tasks.pop_front();
        }
        task();
    }
}

}  // namespace glassbox::projects
